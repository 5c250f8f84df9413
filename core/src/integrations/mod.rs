//! Third-party services Caly talks to, each in its own folder: Exotel (telephony) and Shopify
//! (the store's data), and OpenAI-compatible language models. Speech providers join here.

pub mod exotel;
pub mod llm;
pub mod shopify;
