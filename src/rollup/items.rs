//! Which items a login uses (docs/SEMANTICS.md, section 2.2): an item's seat is used by a
//! login whose media meet the item's media (or by any login, for media `*`).

use super::ItemMask;
use crate::config::Item;

/// The items a login with these media uses a seat of.
pub fn items_of<'m>(items: &[Item], media: impl Iterator<Item = &'m str> + Clone) -> ItemMask {
    let mut mask = 0;
    for (i, it) in items.iter().enumerate() {
        if it.consumed_by(media.clone()) {
            mask |= 1 << i;
        }
    }
    mask
}

/// The items that any login uses (media `*`).
pub(super) fn any_items(items: &[Item]) -> ItemMask {
    items
        .iter()
        .enumerate()
        .filter(|(_, it)| it.any)
        .fold(0, |m, (i, _)| m | (1 << i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Model;

    #[test]
    fn a_login_uses_the_items_its_media_meet() {
        let item = |name: &str, media: &[&str], any: bool| Item {
            name: name.into(),
            media: media.iter().map(|m| m.to_string()).collect(),
            any,
            features: Vec::new(),
            model: Model::Concurrent,
        };
        let items = [
            item("Voice", &["voice"], false),
            item("Digital", &["email", "chat"], false),
            item("WFM", &[], true),
        ];
        // WFM (media "*") is used by any login.
        assert_eq!(items_of(&items, ["voice"].into_iter()), 0b101);
        assert_eq!(items_of(&items, ["chat", "sms"].into_iter()), 0b110);
        assert_eq!(items_of(&items, ["voice", "email"].into_iter()), 0b111);
        assert_eq!(items_of(&items, ["fax"].into_iter()), 0b100);
        assert_eq!(any_items(&items), 0b100);
    }
}
