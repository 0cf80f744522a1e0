//! Query-string parameters whose errors name the parameter (`?status=bogus` → 422,
//! field `status`), and the pagination every list shares.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::Serialize;

use crate::error::ApiError;

pub struct Params(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Query(map) = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map_err(|_| ApiError::bad_request(Some("query"), "the query string is malformed"))?;
        for (k, v) in &map {
            crate::extract::refuse_nul(k, v)?;
        }
        Ok(Params(map))
    }
}

impl Params {
    /// Parameters from a form rather than the query string (the web UI's forms).
    pub(crate) fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Params(pairs.into_iter().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn parse<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiError>
    where
        T::Err: Display,
    {
        self.get(name)
            .map(|v| {
                v.parse::<T>()
                    .map_err(|e| ApiError::validation(name, e.to_string()))
            })
            .transpose()
    }

    /// A yes/no parameter. Unlike other parameters an empty one is refused, not ignored:
    /// `?dry_run=` read as "no" would import for real.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, ApiError> {
        let raw = self.0.get(name).map(|v| v.trim().to_ascii_lowercase());
        match raw.as_deref() {
            None => Ok(None),
            Some("true" | "1" | "yes") => Ok(Some(true)),
            Some("false" | "0" | "no") => Ok(Some(false)),
            Some(_) => Err(ApiError::validation(name, "expected true or false")),
        }
    }

    /// A number. Unlike text filters (where an empty value is "any", as a form sends it), an
    /// empty number is refused: `?per_page=` is a client's mistake, not the default.
    pub fn number<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiError>
    where
        T::Err: Display,
    {
        if self.0.get(name).is_some_and(|v| v.trim().is_empty()) {
            return Err(ApiError::validation(name, "expected a number"));
        }
        self.parse(name)
    }

    pub fn page(&self) -> Result<Page, ApiError> {
        let page = self.number::<i64>("page")?.unwrap_or(1);
        let per_page = self.number::<i64>("per_page")?.unwrap_or(50);
        if !(1..=1_000_000).contains(&page) {
            return Err(ApiError::validation("page", "must be a number from 1"));
        }
        if !(1..=500).contains(&per_page) {
            return Err(ApiError::validation(
                "per_page",
                "must be a number from 1 to 500",
            ));
        }
        Ok(Page { page, per_page })
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub page: i64,
    pub per_page: i64,
}

impl Page {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

/// One page of a list, with the total across all pages.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Paged<T> {
    pub fn new(items: Vec<T>, total: i64, page: Page) -> Self {
        Self {
            items,
            total,
            page: page.page,
            per_page: page.per_page,
        }
    }
}
