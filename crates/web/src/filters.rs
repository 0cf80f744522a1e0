//! The lists' query strings read into typed filters, alike for the API's lists and the web
//! UI's tables, with errors that name the parameter.

use icf_app::accounts::AccountQuery;
use icf_core::enums::{AccountStatus, ProxyStatus, ProxyType};
use icf_core::ids::GroupId;
use icf_core::language::Language;
use icf_core::proxy::parse_country;
use icf_store::accounts::{AccountFilter, AccountSort};
use icf_store::groups::OnDelete;
use icf_store::proxies::ProxyFilter;

use crate::error::{ApiError, ApiResult};
use crate::query::{Page, Params};

/// The account list's query string (`sort`, `order`, `search`, filters, page); `group`
/// (a group's own list) wins over `group_id`. The web UI's tables read theirs here too.
pub(crate) fn account_query(
    params: &Params,
    group: Option<GroupId>,
) -> ApiResult<(AccountQuery, Page)> {
    let page = params.page()?;
    let sort = match params.get("sort") {
        None | Some("username") => AccountSort::Username,
        Some("created_at") => AccountSort::CreatedAt,
        Some("last_post_at") => AccountSort::LastPostAt,
        Some("last_login_at") => AccountSort::LastLoginAt,
        Some("status") => AccountSort::Status,
        Some("language") => AccountSort::Language,
        Some(_) => {
            return Err(ApiError::validation(
                "sort",
                "expected username, created_at, last_post_at, last_login_at, status or language",
            ));
        }
    };
    let descending = match params.get("order") {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(ApiError::validation("order", "expected asc or desc")),
    };
    let search = params.get("search").or_else(|| params.get("q"));
    if search.is_some_and(|s| s.chars().count() > 64) {
        return Err(ApiError::validation(
            "search",
            "must be at most 64 characters long",
        ));
    }
    let filter = AccountFilter {
        group_id: group.or(params.parse::<GroupId>("group_id")?),
        status: params.parse::<AccountStatus>("status")?,
        language: params
            .get("language")
            .map(Language::parse)
            .transpose()?
            .map(|l| l.code().to_owned()),
        search: search.map(str::to_owned),
    };
    let query = AccountQuery {
        filter,
        sort,
        descending,
        limit: page.per_page,
        offset: page.offset(),
    };
    Ok((query, page))
}

/// What happens to a deleted group's accounts (`on_accounts`, `target_group_id`), from
/// the query string or the web UI's form.
pub(crate) fn delete_mode(params: &Params) -> ApiResult<OnDelete> {
    match params.get("on_accounts") {
        None => Ok(OnDelete::Refuse),
        Some("ungroup") => Ok(OnDelete::Ungroup),
        Some("delete") => Ok(OnDelete::DeleteAccounts),
        Some("move") => {
            let target = params.parse::<GroupId>("target_group_id")?.ok_or_else(|| {
                ApiError::validation("target_group_id", "required with on_accounts=move")
            })?;
            Ok(OnDelete::MoveTo(target))
        }
        Some(_) => Err(ApiError::validation(
            "on_accounts",
            "expected ungroup, move or delete",
        )),
    }
}

/// The pool list's query string: filters and page. The web UI's table reads its own here.
pub(crate) fn proxy_query(params: &Params) -> ApiResult<(ProxyFilter, Page)> {
    let page = params.page()?;
    let filter = ProxyFilter {
        status: params.parse::<ProxyStatus>("status")?,
        proxy_type: params.parse::<ProxyType>("proxy_type")?,
        country: params.get("country").map(parse_country).transpose()?,
        assigned: params.flag("assigned")?,
    };
    Ok((filter, page))
}
