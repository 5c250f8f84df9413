//! Third-party services Caly talks to, each in its own folder: Exotel (telephony) and Shopify
//! (the store's data). Speech and LLM providers join here.

pub mod exotel;
pub mod shopify;
