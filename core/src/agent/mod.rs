//! The agent's brain, built up piece by piece: the fourteen intents and the offline classifier,
//! what callers say turned into slots (order numbers spoken as words), and the verification rules that decide what a caller may hear.
//! The agents, the offline brain and the LLM brain join here.

pub mod intent;
pub mod slots;
pub mod verification;
