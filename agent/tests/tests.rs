//! Integration tests of breadcrumb-agent, one module per area (one test target). Providers are
//! tested against mock servers on 127.0.0.1 speaking the real wire formats; no test ever reaches
//! the network.

mod campaign;
mod providers;
mod session;
mod wire;
