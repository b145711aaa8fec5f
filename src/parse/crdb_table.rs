//! `cockroach node status` / `node decommission` output. Placeholder.
