pub use models;
pub use sim_core;
pub use sim_net;

pub mod cli;
