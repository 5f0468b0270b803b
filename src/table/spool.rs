//! A file written on a thread of its own: `write` fills 1 MiB chunks, which the thread writes
//! while the caller goes on (the page-cache copy of a write is then off the caller's thread:
//! `prepare` builds and checks records on one thread while another parses the table, and the
//! writes were a third of the builder's time on the 1 GB benchmark). Chunks come back to be
//! filled again, so a run allocates a few.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

const CHUNK: usize = 1 << 20;

pub struct Spool {
    buf: Vec<u8>,
    tx: Option<SyncSender<Vec<u8>>>,
    back: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<io::Result<File>>>,
}

impl Spool {
    pub fn new(mut file: File) -> Spool {
        let (tx, rx) = sync_channel::<Vec<u8>>(4);
        let (back_tx, back) = channel::<Vec<u8>>();
        let thread = std::thread::spawn(move || {
            for chunk in rx {
                file.write_all(&chunk)?;
                let _ = back_tx.send(chunk);
            }
            Ok(file)
        });
        Spool { buf: Vec::with_capacity(CHUNK), tx: Some(tx), back, thread: Some(thread) }
    }

    fn send(&mut self) -> io::Result<()> {
        let next = self.back.try_recv().map(|mut b| {
            b.clear();
            b
        });
        let full = std::mem::replace(&mut self.buf, next.unwrap_or_else(|_| Vec::with_capacity(CHUNK)));
        match self.tx.as_ref().map(|tx| tx.send(full)) {
            Some(Ok(())) => Ok(()),
            // The thread stopped on a write error: that error.
            _ => Err(self.stop().err().unwrap_or_else(|| io::Error::other("the writing thread stopped"))),
        }
    }

    fn stop(&mut self) -> io::Result<File> {
        self.tx = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(io::Error::other("the writing thread panicked")),
            None => Err(io::Error::other("the file is already closed")),
        }
    }

    /// Writes what is left and hands the file back (to sync it).
    pub fn finish(mut self) -> io::Result<File> {
        if !self.buf.is_empty() {
            self.send()?;
        }
        self.stop()
    }
}

impl Write for Spool {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_arrives_in_order() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let mut s = Spool::new(f.reopen().unwrap());
        let mut want = Vec::new();
        for i in 0..300_000u32 {
            let line = format!("{i} {}\n", "x".repeat((i % 97) as usize));
            s.write_all(line.as_bytes()).unwrap();
            want.extend_from_slice(line.as_bytes());
        }
        s.finish().unwrap().sync_all().unwrap();
        assert_eq!(std::fs::read(f.path()).unwrap(), want);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_write_is_its_error() {
        // /dev/full refuses every write with ENOSPC.
        let mut s = Spool::new(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap());
        let chunk = vec![b'a'; CHUNK];
        let mut err = None;
        for _ in 0..16 {
            if let Err(e) = s.write_all(&chunk) {
                err = Some(e);
                break;
            }
        }
        let e = match err {
            Some(e) => e,
            None => s.finish().map(|_| ()).unwrap_err(),
        };
        assert_eq!(e.raw_os_error(), Some(28), "{e}");
    }
}
