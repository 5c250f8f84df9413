//! The agent's brain. The fourteen intents and the offline classifier, slots (order numbers
//! spoken as words), the verification rules, the conversation's memory, and the tool layer
//! that enforces privacy whichever brain answers: the offline brain (templates, one agent per
//! intent) or the LLM brain. Used by the `agent_reply` stage; depends on the store only
//! through [`store_data::StoreData`].

pub mod brain;
pub mod conversation;
pub mod facts;
pub mod intent;
pub mod llm_brain;
pub mod offline;
pub mod respond;
pub mod slots;
pub mod store_data;
pub mod tools;
pub mod verification;
