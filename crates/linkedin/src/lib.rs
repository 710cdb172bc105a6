//! LinkedIn connectors of Outbound: the [`LinkedInConnector`] contract, the simulated
//! [`sandbox`] network (the embedded default) and the [`unipile`] HTTP client.
//!
//! Rule: the engine talks to LinkedIn only through [`LinkedInConnector`]; a connector never reads
//! the machine clock to decide anything (time is a parameter), never panics on network or user
//! data, and reports failures as a [`ConnectorError`] the engine knows how to act on.

pub mod connector;
mod hash;
pub mod sandbox;
pub mod unipile;

pub use connector::{
    Account, CheckpointKind, ConnectorError, Incoming, InvitationState, LinkedInConnector,
    LoginOutcome, MAX_NOTE_CHARS, Profile, SearchHit, SendProbe, Sent, SentRef,
};
pub use sandbox::{SandboxConfig, SandboxConnector};
pub use unipile::{UnipileConfig, UnipileConnector};
