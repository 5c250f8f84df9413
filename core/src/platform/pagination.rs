//! One way to page through a query: validated page numbers, bounded page sizes, and the total.

use crate::{CoreError, Rejection};
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QuerySelect, Select};
use serde::Serialize;

/// Page numbers beyond this are refused (offsets must stay far inside i64).
pub const MAX_PAGE: u64 = 1_000_000;

/// Rows per page when none is asked for.
pub const DEFAULT_PER_PAGE: u64 = 50;

/// Most rows per page.
pub const MAX_PER_PAGE: u64 = 500;

/// Which page to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
}

impl PageRequest {
    /// Checks a requested page (1 when absent) and bounds the page size to 1–500 (50 when absent).
    pub fn new(page: Option<u64>, per_page: Option<u64>) -> Result<Self, Rejection> {
        let page = page.unwrap_or(1);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(Rejection::InvalidPage { max: MAX_PAGE });
        }
        Ok(PageRequest {
            page,
            per_page: per_page.unwrap_or(DEFAULT_PER_PAGE).clamp(1, MAX_PER_PAGE),
        })
    }
}

/// One page of results.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// 1-based page number.
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
    /// Rows across all pages.
    pub total: u64,
}

impl<T> Page<T> {
    /// The same page with each row turned into something else (a view of it).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            total: self.total,
        }
    }
}

/// Reads one page of an already ordered query, with the total across pages.
pub async fn paginate<E>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    request: PageRequest,
) -> Result<Page<E::Model>, CoreError>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Sized + Send + Sync,
{
    let total = query.clone().count(db).await?;
    let items = query
        .offset((request.page - 1) * request.per_page)
        .limit(request.per_page)
        .all(db)
        .await?;
    Ok(Page {
        items,
        page: request.page,
        per_page: request.per_page,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_checked_and_sizes_bounded() {
        assert_eq!(
            PageRequest::new(None, None).unwrap(),
            PageRequest {
                page: 1,
                per_page: 50
            }
        );
        assert_eq!(PageRequest::new(Some(2), Some(0)).unwrap().per_page, 1);
        assert_eq!(PageRequest::new(Some(2), Some(9999)).unwrap().per_page, 500);
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(u64::MAX), None).is_err());
    }
}
