//! Reading a delta (a ranged RSF dump) off the wire within a bound: the bytes held never
//! exceed `max_bytes`, and no line may outgrow what an RSF reader accepts.

use std::io::Read;

use register_core::rsf::MAX_LINE_BYTES;

/// Bytes read from the wire at a time.
const READ_BYTES: usize = 64 * 1024;

/// Why a delta could not be read.
#[derive(Debug)]
pub(crate) enum Unread {
    /// The transport failed.
    Io(std::io::Error),
    /// A line (1-based) longer than [`MAX_LINE_BYTES`]; reading stopped there.
    LineTooLong(u64),
}

/// Reads a whole delta from `reader` if it is at most `max_bytes` long, else `Ok(None)`,
/// having read at most `max_bytes + 1` bytes. `declared` is the length the server declared
/// (checked by the caller against the bound): the buffer is sized for it once.
pub(crate) fn read_bounded(
    reader: impl Read,
    max_bytes: u64,
    declared: Option<u64>,
) -> Result<Option<Vec<u8>>, Unread> {
    // A lying declaration can make this allocation no larger than the bound.
    let capacity = declared.unwrap_or(0).min(max_bytes);
    let mut delta = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    let mut limited = reader.take(max_bytes.saturating_add(1));
    let mut buffer = vec![0u8; READ_BYTES];
    let mut line = 1u64;
    let mut line_bytes = 0usize;
    loop {
        let n = match limited.read(&mut buffer) {
            Ok(0) => return Ok(Some(delta)),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Unread::Io(e)),
        };
        let chunk = &buffer[..n];
        if delta.len() as u64 + n as u64 > max_bytes {
            return Ok(None);
        }
        let mut rest = chunk;
        while let Some(at) = rest.iter().position(|b| *b == b'\n') {
            line_bytes += at;
            check_line(line, line_bytes)?;
            line += 1;
            line_bytes = 0;
            rest = &rest[at + 1..];
        }
        line_bytes += rest.len();
        check_line(line, line_bytes)?;
        delta.extend_from_slice(chunk);
    }
}

/// A line of `bytes` (its `\n` excluded; a `\r` before it allowed for).
fn check_line(line: u64, bytes: usize) -> Result<(), Unread> {
    if bytes > MAX_LINE_BYTES + 1 {
        Err(Unread::LineTooLong(line))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An endless source that counts what was read from it.
    struct Endless<'a> {
        byte: u8,
        read: &'a mut u64,
    }

    impl Read for Endless<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(self.byte);
            *self.read += buf.len() as u64;
            Ok(buf.len())
        }
    }

    #[test]
    fn a_delta_within_the_bound_is_read_whole() {
        let text = b"assert-root-hash\tx\nadd-item\t{}\n";
        let read = read_bounded(&text[..], text.len() as u64, Some(text.len() as u64));
        assert_eq!(read.ok().flatten().as_deref(), Some(&text[..]));
        let read = read_bounded(&text[..], text.len() as u64 - 1, None);
        assert!(matches!(read, Ok(None)));
    }

    #[test]
    fn reading_stops_just_past_the_bound() {
        let mut read = 0;
        let source = Endless {
            byte: b'\n',
            read: &mut read,
        };
        assert!(matches!(read_bounded(source, 1_000_000, None), Ok(None)));
        assert!(read <= 1_000_001, "{read} bytes read");
    }

    #[test]
    fn an_endless_line_is_refused_at_the_line_bound() {
        let mut read = 0;
        let source = Endless {
            byte: b'a',
            read: &mut read,
        };
        match read_bounded(source, u64::MAX, None) {
            Err(Unread::LineTooLong(1)) => {}
            other => panic!("{:?}", other.map(|d| d.map(|d| d.len()))),
        }
        assert!(read <= (MAX_LINE_BYTES + 2 * READ_BYTES) as u64, "{read}");
    }
}
