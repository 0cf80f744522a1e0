//! Posts: the list, the composer, the post page (translations, plan, publish, live
//! executions) and the calendar. Each handler reads its form, calls the use case in
//! `icf_app` and renders the answer.

mod calendar;
mod composer;
mod executions;
mod import;
mod list;
mod media;
mod page;
mod publish;
mod review;
mod translations;
mod view;

pub use calendar::calendar;
pub use composer::composer;
pub use executions::{cancel, executions, retry};
pub use import::{import, page as import_page, template as import_template};
pub use list::list;
pub use media::media;
pub use page::{delete, page};
pub use publish::{plan, publish};
pub use review::{approve, reject, submit};
pub use translations::{edit_translation, translate};
