//! Third-party services Caly talks to. Today: Exotel (telephony). Shopify, speech and LLM
//! providers join here, each in its own folder.

pub mod exotel;
