//! Opening input files: only regular files are read. Devices, named pipes
//! and sockets (or links to them) are refused before anything is read from
//! them: a `.jsonl` that is `/dev/zero` or a FIFO would otherwise never end.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The longest line read, in bytes (64 MiB). A longer line is reported with
/// its file and line number and skipped without being held in memory; the
/// longest line seen in real sessions is a few MiB (a pasted image).
pub const MAX_LINE: usize = 64 << 20;

/// The most read of a `.meta.json` sidecar (a few hundred bytes in practice).
pub const MAX_SIDECAR: u64 = 1 << 20;

/// Why an input file was not opened.
#[derive(Debug)]
pub enum OpenFailure {
    /// Not a regular file: what it is ("a named pipe", …).
    Special(&'static str),
    Io(std::io::Error),
}

impl std::fmt::Display for OpenFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenFailure::Special(kind) => write!(f, "{kind}, not a regular file; skipped without reading it"),
            OpenFailure::Io(e) => write!(f, "{e}"),
        }
    }
}

/// What a file type is when it is not a regular file or a folder.
pub fn special_kind(kind: std::fs::FileType) -> Option<&'static str> {
    if kind.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else {
        None
    }
}

/// Opens a regular file for reading (following links). Anything else is
/// refused: the type is looked at first, and the file is opened without
/// blocking (a FIFO swapped in meanwhile does not hang) and looked at again.
pub fn open_regular(path: &Path) -> Result<File, OpenFailure> {
    let before = std::fs::metadata(path).map_err(OpenFailure::Io)?;
    if let Some(kind) = special_kind(before.file_type()) {
        return Err(OpenFailure::Special(kind));
    }
    open_listed(path)
}

/// Opens a file to read: [`open_listed`] when its folder listed it as a
/// regular file, else [`open_regular`].
pub fn open(path: &Path, listed: bool) -> Result<File, OpenFailure> {
    if listed {
        open_listed(path)
    } else {
        open_regular(path)
    }
}

/// Opens a file that its folder listed as a regular file, without looking
/// at its type first (a stat call less per file: 6% of checking a corpus of
/// many small files). It is opened without blocking and looked at after, so
/// a file swapped meanwhile for anything else is still refused.
pub fn open_listed(path: &Path) -> Result<File, OpenFailure> {
    let file =
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(OpenFailure::Io)?;
    let after = file.metadata().map_err(OpenFailure::Io)?;
    match special_kind(after.file_type()) {
        Some(kind) => Err(OpenFailure::Special(kind)),
        None if after.is_dir() => Err(OpenFailure::Special("a folder")),
        None => Ok(file),
    }
}

/// Reads a small sidecar file whole, at most [`MAX_SIDECAR`] bytes; `None`
/// when it is not a regular file, cannot be read, or is larger.
pub fn read_small(path: &Path) -> Option<Vec<u8>> {
    let file = open_regular(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_SIDECAR + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= MAX_SIDECAR).then_some(bytes)
}

/// Why a path that is not there is not there: a link loop, a link to
/// nothing, or no such file.
pub fn missing_reason(path: &Path) -> String {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => match std::fs::metadata(path) {
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => "symbolic link loop (too many levels of links)".into(),
            _ => match std::fs::read_link(path) {
                Ok(target) => format!("dangling symbolic link to {}", target.display()),
                Err(_) => "dangling symbolic link".into(),
            },
        },
        _ => "no such file or directory".into(),
    }
}

/// Reads standard input whole, stopping at a line longer than [`MAX_LINE`]
/// (`/dev/zero` piped in): `Err` with the 1-based number of that line.
pub fn read_capped<R: Read>(mut reader: R) -> std::io::Result<Result<Vec<u8>, u32>> {
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 256 * 1024];
    let mut line_start = 0usize;
    let mut line = 1u32;
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok(Ok(bytes)),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let from = bytes.len();
        bytes.extend_from_slice(&chunk[..n]);
        for nl in memchr::memchr_iter(b'\n', &bytes[from..]) {
            line_start = from + nl + 1;
            line += 1;
        }
        if bytes.len() - line_start > MAX_LINE {
            return Ok(Err(line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_input_stops_at_an_endless_line() {
        let zeros = std::io::repeat(0).take(MAX_LINE as u64 + 1024);
        assert_eq!(read_capped(zeros).unwrap(), Err(1));
        let text = b"a\nb\n".to_vec();
        assert_eq!(read_capped(&text[..]).unwrap(), Ok(text));
    }

    #[test]
    fn refuses_devices_and_pipes() {
        assert!(matches!(open_regular(Path::new("/dev/zero")), Err(OpenFailure::Special("a character device"))));
        assert!(matches!(open_regular(Path::new("/")), Err(OpenFailure::Special(_))));
        assert!(read_small(Path::new("/dev/zero")).is_none());
    }
}
