//! What the simulated network has sent: the invitations and messages each account sent, with the
//! id they got, so that [`find_sent`](crate::LinkedInConnector::find_sent) can tell whether a
//! send interrupted by a crash happened.
//!
//! Rules:
//! - in memory by default (shared by the clones of one connector), or backed by an append-only
//!   file that outlives the process: a record is written and flushed to disk before the send
//!   returns, as LinkedIn would remember it, and the file is read back when the connector starts;
//! - one record per line, `i` (invitation) or `m` (message), then the account, the profile slug
//!   or the idempotency key, the provider's id and the end mark `;`, separated by tabs; a line
//!   without its end mark (a write torn by a crash) is skipped, and a later record of the same
//!   key wins.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

const INVITATION: &str = "i";
const MESSAGE: &str = "m";
const SEPARATOR: char = '\t';
/// The last field of a whole record.
const END: &str = ";";

/// An account and what it names: a profile slug (invitations) or an idempotency key (messages).
pub(super) type SendKey = (String, String);

/// The sent invitations and messages, and the file that keeps them, if any.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    invitations: HashMap<SendKey, String>,
    messages: HashMap<SendKey, String>,
    file: Option<File>,
}

impl Ledger {
    /// A ledger kept in `path` (created if missing), with what the file already holds.
    pub(super) fn open(path: &Path) -> io::Result<Ledger> {
        let mut ledger = Ledger::default();
        let content = match std::fs::read_to_string(path) {
            Ok(content) => content,
            Err(error) if error.kind() == io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(error),
        };
        for line in content.lines() {
            ledger.replay(line);
        }
        let torn = !content.is_empty() && !content.ends_with('\n');
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        if torn {
            // End the torn line so that the next record starts on a line of its own.
            file.write_all(b"\n")?;
        }
        ledger.file = Some(file);
        Ok(ledger)
    }

    fn replay(&mut self, line: &str) {
        let mut fields = line.split(SEPARATOR);
        let (Some(kind), Some(account), Some(key), Some(provider_id), Some(END), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return;
        };
        if provider_id.is_empty() {
            return;
        }
        let key = (account.to_owned(), key.to_owned());
        match kind {
            INVITATION => self.invitations.insert(key, provider_id.to_owned()),
            MESSAGE => self.messages.insert(key, provider_id.to_owned()),
            _ => None,
        };
    }

    /// Records a send; with a file, it is on disk when this returns.
    pub(super) fn record(
        &mut self,
        invitation: bool,
        key: SendKey,
        provider_id: &str,
    ) -> io::Result<()> {
        if let Some(file) = self.file.as_mut() {
            let kind = if invitation { INVITATION } else { MESSAGE };
            let (account, name) = &key;
            let line = format!("{kind}\t{account}\t{name}\t{provider_id}\t{END}\n");
            if [account, name, provider_id]
                .iter()
                .any(|f| f.contains(['\t', '\n']))
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a ledger key holds a tab or a line break",
                ));
            }
            file.write_all(line.as_bytes())?;
            file.sync_data()?;
        }
        let book = if invitation {
            &mut self.invitations
        } else {
            &mut self.messages
        };
        book.insert(key, provider_id.to_owned());
        Ok(())
    }

    /// The provider's id of a recorded send.
    pub(super) fn recorded(&self, invitation: bool, key: &SendKey) -> Option<&str> {
        let book = if invitation {
            &self.invitations
        } else {
            &self.messages
        };
        book.get(key).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(account: &str, name: &str) -> SendKey {
        (account.to_owned(), name.to_owned())
    }

    #[test]
    fn a_file_ledger_survives_a_restart_and_skips_torn_lines() {
        let dir = std::env::temp_dir().join(format!("outbound-ledger-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("ledger");
        let _ = std::fs::remove_file(&path);
        {
            let mut ledger = Ledger::open(&path).expect("open");
            ledger
                .record(true, key("acc", "jane"), "inv-1")
                .expect("record");
            ledger
                .record(false, key("acc", "send-1"), "msg-1")
                .expect("record");
            ledger
                .record(false, key("acc", "send-1"), "msg-2")
                .expect("record");
            assert!(ledger.record(true, key("acc", "a\tb"), "x").is_err());
        }
        // A crash in the middle of a write leaves part of a line.
        let mut file = OpenOptions::new().append(true).open(&path).expect("append");
        file.write_all(b"m\tacc\tsend-2\tmsg-").expect("torn write");
        drop(file);

        let mut ledger = Ledger::open(&path).expect("reopen");
        assert_eq!(ledger.recorded(true, &key("acc", "jane")), Some("inv-1"));
        assert_eq!(ledger.recorded(false, &key("acc", "send-1")), Some("msg-2"));
        assert_eq!(ledger.recorded(false, &key("acc", "send-2")), None, "torn");
        assert_eq!(ledger.recorded(true, &key("other", "jane")), None);
        ledger
            .record(false, key("acc", "send-3"), "msg-3")
            .expect("record");
        drop(ledger);
        let ledger = Ledger::open(&path).expect("reopen");
        assert_eq!(ledger.recorded(false, &key("acc", "send-3")), Some("msg-3"));
        assert_eq!(ledger.recorded(false, &key("acc", "send-2")), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_in_memory_ledger_records_without_a_file() {
        let mut ledger = Ledger::default();
        ledger
            .record(true, key("acc", "jane"), "inv-1")
            .expect("record");
        assert_eq!(ledger.recorded(true, &key("acc", "jane")), Some("inv-1"));
        assert_eq!(ledger.recorded(false, &key("acc", "jane")), None);
    }
}
