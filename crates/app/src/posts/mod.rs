//! Posts: creating a draft from an upload (its media converted and stored), reading,
//! editing (a pending post is re-planned) and deleting. Editors and admins alike:
//! posting is what an editor is for.

pub mod bulk;
pub mod create;
pub mod delete;
pub mod edit;
mod fields;
mod media;
pub mod options;
pub mod read;
pub mod review;
