//! Paging arithmetic of `entries` (`start`, `limit`) and `records` (`page-index`,
//! `page-size`), for the API's `Link` headers and the pages' pagers alike.
//!
//! `start` and `page-index` are any `u64` a client sends, so every sum here is checked or
//! saturating: a position past the end is an empty page with no `next` link, never a link
//! that wrapped around to the first page.

/// The `start` of the page after `start..start + limit`, if the log holds entries there.
pub fn next_start(start: u64, limit: u64, total_entries: u64) -> Option<u64> {
    start
        .checked_add(limit)
        .filter(|next| *next <= total_entries)
}

/// The `start` of the page before, if this one does not start at the first entry.
pub fn previous_start(start: u64, limit: u64) -> Option<u64> {
    (start > 1).then(|| start.saturating_sub(limit).max(1))
}

/// The records before page `page_index` (from 1) of `page_size` records: saturating, so a
/// page far past the end is just empty.
pub fn offset(page_index: u64, page_size: u64) -> u64 {
    page_index.saturating_sub(1).saturating_mul(page_size)
}

/// The index of the next page, if records lie past this one.
pub fn next_page(page_index: u64, page_size: u64, total_records: u64) -> Option<u64> {
    let end = offset(page_index, page_size).checked_add(page_size)?;
    if end < total_records {
        page_index.checked_add(1)
    } else {
        None
    }
}

/// The index of the page before, if this is not the first.
pub fn previous_page(page_index: u64) -> Option<u64> {
    page_index.checked_sub(1).filter(|previous| *previous >= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u64 = u64::MAX;

    #[test]
    fn entries_links_never_wrap() {
        assert_eq!(next_start(1, 100, 208), Some(101));
        assert_eq!(next_start(101, 100, 208), Some(201));
        assert_eq!(next_start(201, 100, 208), None);
        assert_eq!(next_start(MAX, 5000, 208), None);
        assert_eq!(next_start(MAX - 10, 100, MAX), None);
        assert_eq!(previous_start(1, 100), None);
        assert_eq!(previous_start(50, 100), Some(1));
        assert_eq!(previous_start(MAX, 5000), Some(MAX - 5000));
    }

    #[test]
    fn records_links_never_wrap() {
        assert_eq!(offset(1, 100), 0);
        assert_eq!(offset(3, 100), 200);
        assert_eq!(offset(MAX, 5000), MAX);
        assert_eq!(offset(1 << 62, 5000), MAX);
        assert_eq!(next_page(1, 100, 199), Some(2));
        assert_eq!(next_page(2, 100, 199), None);
        assert_eq!(next_page(MAX, 5000, 199), None);
        assert_eq!(next_page(MAX, 1, MAX), None);
        assert_eq!(next_page((1 << 63) + 1, 2, MAX), None);
        assert_eq!(previous_page(1), None);
        assert_eq!(previous_page(0), None);
        assert_eq!(previous_page(2), Some(1));
        assert_eq!(previous_page(MAX), Some(MAX - 1));
    }
}
