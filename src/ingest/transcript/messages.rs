//! Grouping the lines of one API message: Claude Code writes the content
//! blocks of one assistant message on lines of their own, so the texts and
//! calls of those lines get one message key, by `message.id` (with the
//! request id), or by contiguity when ids are missing.
//!
//! Owns the open message and the next key. Uses nothing else: the builder
//! tells it of assistant lines, tool results and new turns.

#[derive(Default)]
pub(super) struct Messages {
    /// The open API message: its id (if any) and key.
    open: Option<(Option<String>, u32)>,
    next: u32,
}

impl Messages {
    /// The message key of an assistant line: one key per API message, by
    /// `message.id`, with contiguity as fallback when ids are missing.
    pub(super) fn key(&mut self, id: Option<&str>) -> u32 {
        if let Some((open_id, key)) = &self.open {
            if open_id.as_deref() == id {
                return *key;
            }
        }
        let key = self.next;
        self.next += 1;
        self.open = Some((id.map(str::to_string), key));
        key
    }

    /// A new turn (a user entry that is not a tool result): the open message ends.
    pub(super) fn close(&mut self) {
        self.open = None;
    }

    /// A tool result: Claude Code 2.1.x writes results between the blocks of
    /// the message that made the calls, so a message with an id stays open;
    /// one without an id (contiguity) ends here.
    pub(super) fn result_seen(&mut self) {
        if self.open.as_ref().is_some_and(|(id, _)| id.is_none()) {
            self.open = None;
        }
    }
}

/// What tells one API message from another: `message.id`, joined with the
/// entry's `requestId` when it has one; `None` without a message id.
pub(super) fn message_id(id: Option<&str>, request: Option<&str>) -> Option<String> {
    match (id, request) {
        (Some(id), Some(req)) => Some(format!("{id}\u{1f}{req}")),
        (Some(id), None) => Some(id.to_string()),
        (None, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_one_message_share_its_key() {
        let mut m = Messages::default();
        assert_eq!(m.key(Some("a")), 0);
        assert_eq!(m.key(Some("a")), 0);
        // 2.1.x: results between the blocks of a message with an id.
        m.result_seen();
        assert_eq!(m.key(Some("a")), 0);
        assert_eq!(m.key(Some("b")), 1);
        assert_eq!(m.key(None), 2);
        // An id seen again after another message is another message.
        assert_eq!(m.key(Some("a")), 3);
    }

    #[test]
    fn lines_without_ids_group_by_contiguity_until_a_result() {
        let mut m = Messages::default();
        assert_eq!(m.key(None), 0);
        assert_eq!(m.key(None), 0);
        m.result_seen();
        assert_eq!(m.key(None), 1);
        assert_eq!(m.key(Some("a")), 2);
    }

    #[test]
    fn a_new_turn_ends_the_open_message() {
        let mut m = Messages::default();
        assert_eq!(m.key(Some("a")), 0);
        m.close();
        assert_eq!(m.key(Some("a")), 1);
        m.close();
        assert_eq!(m.key(None), 2);
    }

    #[test]
    fn a_message_id_joins_the_request_id() {
        assert_eq!(message_id(Some("m"), Some("r")).as_deref(), Some("m\u{1f}r"));
        assert_eq!(message_id(Some("m"), None).as_deref(), Some("m"));
        assert_eq!(message_id(None, Some("r")), None);
        let mut m = Messages::default();
        let (one, two) = (message_id(Some("m"), Some("r1")), message_id(Some("m"), Some("r2")));
        assert_ne!(m.key(one.as_deref()), m.key(two.as_deref()));
    }
}
