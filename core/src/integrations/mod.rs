//! Third-party services Caly talks to, each in its own folder: Exotel (telephony) and Shopify
//! (the store's data), OpenAI-compatible language models, and speech (online and offline).

pub mod exotel;
pub mod llm;
pub mod shopify;
pub mod speech;
