//! Instagram accounts: reading them as a viewer may see them ([`view`]), adding and
//! changing them ([`edit`]), and one action on many at once ([`bulk`]). No result carries
//! a password, a session, a TOTP secret or a proxy credential.

pub mod bulk;
pub mod edit;
pub mod view;

pub use edit::{CreateAccount, TotpSecret, UpdateAccount, create, delete, set_totp, update};
pub use view::{
    AccountQuery, AccountState, Phone, StatusChange, StatusHistory, get, history, label, list,
    phone, shown,
};
