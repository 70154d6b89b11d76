//! A light SSE subscriber: one TCP connection, a hand-written request, and a scanner that counts
//! events and reads the publisher's timestamp from each — so the load generator, not the
//! server, is never the bottleneck, even with thousands of connections.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use nix::sys::socket::{setsockopt, sockopt::IpBindAddressNoPort};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Opens `path` on `server` from source address `127.0.0.{source}` and reads the response head.
/// Returns the stream and any body bytes read with the head.
pub async fn subscribe(
    server: SocketAddr,
    source: u8,
    path: &str,
) -> io::Result<(TcpStream, Vec<u8>)> {
    let socket = TcpSocket::new_v4()?;
    // The source port is chosen at connect, for the whole 4-tuple: a plain bind to port 0 must
    // pick a port free for every destination, and after the churn cases the ports waiting out
    // TIME_WAIT made that search, and connecting, many times slower (BENCHMARKS.md, "The load
    // generator's source ports chosen at connect").
    setsockopt(&socket, IpBindAddressNoPort, &true).map_err(io::Error::from)?;
    socket.bind(SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, source.max(1))),
        0,
    ))?;
    let mut stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {server}\r\nAccept: text/event-stream\r\n\r\n");
    stream.write_all(req.as_bytes()).await?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed before the response head",
            ));
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            if !head.starts_with(b"HTTP/1.1 200") {
                let line = String::from_utf8_lossy(
                    &head[..head.iter().position(|&b| b == b'\r').unwrap_or(0)],
                )
                .into_owned();
                return Err(io::Error::other(format!("subscribe {path}: {line}")));
            }
            let rest = head.split_off(end + 4);
            return Ok((stream, rest));
        }
    }
}

/// Finds `t=<digits>` (a publish time) and `event:` lines in a byte stream fed in any pieces.
#[derive(Default)]
pub struct Scanner {
    /// Bytes of "t=" (or "\nevent:") matched so far.
    t_state: u8,
    e_state: u8,
    digits: Option<u64>,
}

const EVENT: &[u8] = b"\nevent:";

impl Scanner {
    /// Feeds bytes; calls `on_time` with each publish time, `on_event` for each `event:` line.
    pub fn feed(&mut self, bytes: &[u8], mut on_time: impl FnMut(u64), mut on_event: impl FnMut()) {
        for &b in bytes {
            if let Some(acc) = self.digits {
                if b.is_ascii_digit() {
                    self.digits = Some(acc.wrapping_mul(10).wrapping_add(u64::from(b - b'0')));
                    continue;
                }
                on_time(acc);
                self.digits = None;
            }
            self.t_state = match (self.t_state, b) {
                (1, b'=') => {
                    self.digits = Some(0);
                    0
                }
                (_, b't') => 1,
                _ => 0,
            };
            if b == EVENT[self.e_state as usize] {
                self.e_state += 1;
                if self.e_state as usize == EVENT.len() {
                    on_event();
                    self.e_state = 0;
                }
            } else {
                self.e_state = u8::from(b == b'\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_times_and_events_across_pieces() {
        let wire = b"retry: 1000\nevent: reasoning-step\ndata: {\"content\":\"t=123 xx\"}\nid: s:1\n\n: keep-alive\nevent: x\ndata: t=45\nid: s:2\n\n";
        for cut in 0..wire.len() {
            let mut s = Scanner::default();
            let (mut times, mut events) = (Vec::new(), 0);
            s.feed(&wire[..cut], |t| times.push(t), || events += 1);
            s.feed(&wire[cut..], |t| times.push(t), || events += 1);
            assert_eq!((times, events), (vec![123, 45], 2), "cut at {cut}");
        }
    }
}
