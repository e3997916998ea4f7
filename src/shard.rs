//! `check --shard K/N`: one of N parts of the inputs, the same on every
//! machine. A session goes to a shard by its file name (a Claude Code session
//! file is named by its session id), so the partition does not depend on
//! where the tree lies, and a session's subagent files go with it.

use std::path::Path;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Part `index` (0-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

/// A `--shard` value that is not `K/N` with 1 ≤ K ≤ N.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("--shard {0}: not K/N with 1 <= K <= N")]
#[diagnostic(help("for the second of three machines: --shard 2/3"))]
pub struct BadShard(String);

impl FromStr for Shard {
    type Err = BadShard;

    fn from_str(s: &str) -> Result<Shard, BadShard> {
        let bad = || BadShard(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: u64 = k.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { index: k - 1, count: n })
    }
}

impl Shard {
    /// Whether the input at `path` (a session file, a stream-json file, a
    /// file a finding is about, a folder) is this shard's.
    pub fn owns(&self, path: &str) -> bool {
        let name = Path::new(path).file_name().map_or_else(|| path.into(), |n| n.to_string_lossy());
        let digest = Sha256::digest(name.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % self.count == self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_k_of_n() {
        assert_eq!("2/3".parse::<Shard>().unwrap(), Shard { index: 1, count: 3 });
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_input_is_in_exactly_one_shard_by_its_file_name() {
        for n in [1, 3, 7] {
            let shards: Vec<Shard> = (1..=n).map(|k| format!("{k}/{n}").parse().unwrap()).collect();
            for i in 0..200 {
                let path = format!("projects/p{}/{i:08x}-session.jsonl", i % 5);
                let owners = shards.iter().filter(|s| s.owns(&path)).count();
                assert_eq!(owners, 1, "{path} in {owners} of {n} shards");
                // Where the tree lies does not matter.
                let moved = format!("/elsewhere/{i:08x}-session.jsonl");
                assert_eq!(shards.iter().position(|s| s.owns(&path)), shards.iter().position(|s| s.owns(&moved)));
            }
        }
    }
}
