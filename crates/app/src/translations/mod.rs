//! Captions in other languages: a post's captions for every language of its audience
//! (machine translations to preview, hand edits that machines never overwrite), and the
//! ad-hoc translation of a caption that belongs to no post.

pub mod edit;
pub mod refresh;
pub mod text;
pub mod variants;
