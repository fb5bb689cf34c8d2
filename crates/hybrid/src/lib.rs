//! Two forests (spec §9): hybrid directory sync between two Deputy
//! deployments, modelled on Exchange hybrid with Azure AD Connect.
//!
//! - [`config`]: `hybrid.json` (forest, role, peer, shared secret, routing
//!   domains, writeback, `SyncSendAs`);
//! - [`server`]: the forest's authenticated endpoints, `GET /hybrid/export`,
//!   `POST /hybrid/apply` and a mailbox move's (folders and permissions,
//!   pages of messages, progress, the incremental pass's manifests, the
//!   frozen source's purge);
//! - [`pages`]: a page of a moving mailbox's messages on the wire;
//! - [`export`]: a forest's directory as the sync sees it;
//! - [`plan`]: the sync's decisions, a pure function of both exports;
//! - [`apply`]: one operation, through the core's services (audit records
//!   included);
//! - [`client`]: a run, as `deputy hybrid sync` makes it.
//!
//! Invariants: only bearers of the shared secret read or change anything;
//! every operation is keyed by the source object's `Guid` and idempotent; a
//! local object is never removed unless the peer, reached and authenticated,
//! no longer has it; a forest never overwrites or removes an object homed in
//! it. See `docs/hybrid.md`.

pub mod apply;
pub mod client;
pub mod config;
pub mod export;
pub mod pages;
pub mod plan;
pub mod protocol;
pub mod server;

pub use client::{Report, RunOptions, SyncError, sync_once};
pub use config::HybridConfig;
pub use protocol::Role;
pub use server::router;
