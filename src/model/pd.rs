//! PD facts: stores, regions and peers from pd-ctl / PD API listings, and PD config.

use super::{Location, PeerId, RegionId, StoreId};
use chrono::{DateTime, FixedOffset};

/// A store state as pd-ctl prints it in `state_name`. `Disconnected` and `Down` are display
/// overrides PD computes for Up stores only.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StoreState {
    Up,
    Disconnected,
    Down,
    Offline,
    Tombstone,
    Other(String),
}

impl StoreState {
    pub fn parse(s: &str) -> StoreState {
        match s {
            "Up" => StoreState::Up,
            "Disconnected" => StoreState::Disconnected,
            "Down" => StoreState::Down,
            "Offline" => StoreState::Offline,
            "Tombstone" => StoreState::Tombstone,
            other => StoreState::Other(other.to_string()),
        }
    }

    /// From the raw API integer `state` (0 Up, 1 Offline, 2 Tombstone).
    pub fn from_code(code: i64) -> StoreState {
        match code {
            0 => StoreState::Up,
            1 => StoreState::Offline,
            2 => StoreState::Tombstone,
            n => StoreState::Other(format!("state {n}")),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            StoreState::Up => "Up",
            StoreState::Disconnected => "Disconnected",
            StoreState::Down => "Down",
            StoreState::Offline => "Offline",
            StoreState::Tombstone => "Tombstone",
            StoreState::Other(s) => s,
        }
    }

    /// Stored state Up, whatever the heartbeat display override says.
    pub fn is_up_family(&self) -> bool {
        matches!(
            self,
            StoreState::Up | StoreState::Disconnected | StoreState::Down
        )
    }
}

/// One store record from pd-ctl `store` / the PD API.
#[derive(Clone, Debug)]
pub struct Store {
    pub id: StoreId,
    pub address: Option<String>,
    pub state: StoreState,
    /// `node_state` from the raw API: 2 = Removing (same as Offline).
    pub node_state: Option<i64>,
    pub labels: Vec<(String, String)>,
    pub version: Option<String>,
    pub capacity: Option<u64>,
    pub available: Option<u64>,
    pub region_count: Option<u64>,
    pub leader_count: Option<u64>,
    /// Balance inputs PD reports per store (`leader_weight`, `leader_score`, ...).
    pub balance: StoreBalance,
    /// How long the store has been up (`uptime`, else `last_heartbeat_ts - start_ts`), seconds.
    pub uptime: Option<f64>,
    pub last_heartbeat: Option<DateTime<FixedOffset>>,
    pub loc: Location,
    /// It came in a listing of every store (`pd-ctl store`, PD API `/stores`), not in a
    /// filtered answer (`store 5`, `store check offline`) or a cut copy: only such listings
    /// can show that a store does not exist.
    pub complete: bool,
}

/// The weights and scores PD balances stores by (absent in old or filtered answers).
#[derive(Clone, Debug, Default)]
pub struct StoreBalance {
    pub leader_weight: Option<f64>,
    pub region_weight: Option<f64>,
    pub leader_score: Option<f64>,
    pub region_score: Option<f64>,
}

impl Store {
    /// TiFlash stores carry the label `engine=tiflash` (or `tiflash_compute`).
    pub fn is_tiflash(&self) -> bool {
        self.labels
            .iter()
            .any(|(k, v)| k == "engine" && v.starts_with("tiflash"))
    }

    pub fn is_offline(&self) -> bool {
        self.state == StoreState::Offline || self.node_state == Some(2)
    }

    /// PD's low-space test: `available / capacity < 1 - low_space_ratio`, except stores with
    /// fewer than 100 regions and more than 8 GiB available, and stores with capacity 0.
    pub fn is_low_space(&self, low_space_ratio: f64) -> Option<bool> {
        let cap = self.capacity?;
        let avail = self.available?;
        if cap == 0 {
            return Some(false);
        }
        if self.region_count.unwrap_or(0) < 100 && avail > 8 << 30 {
            return Some(false);
        }
        Some((avail as f64 / cap as f64) < 1.0 - low_space_ratio)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeerRole {
    Voter,
    Learner,
    IncomingVoter,
    DemotingVoter,
}

impl PeerRole {
    pub fn parse(name: Option<&str>, code: Option<i64>, is_learner: bool) -> PeerRole {
        match (name, code) {
            (Some("Learner"), _) | (_, Some(1)) => PeerRole::Learner,
            (Some("IncomingVoter"), _) | (_, Some(2)) => PeerRole::IncomingVoter,
            (Some("DemotingVoter"), _) | (_, Some(3)) => PeerRole::DemotingVoter,
            _ if is_learner => PeerRole::Learner,
            _ => PeerRole::Voter,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub id: Option<PeerId>,
    pub store_id: StoreId,
    pub role: PeerRole,
}

/// One region record from pd-ctl `region` / `region store` / the PD API.
#[derive(Clone, Debug)]
pub struct Region {
    pub id: RegionId,
    pub peers: Vec<Peer>,
    /// `None` when PD knows no leader: `"leader": {"role_name":"Voter"}` or no `leader` key.
    pub leader: Option<Peer>,
    pub down_peers: Vec<(Peer, Option<u64>)>,
    pub pending_peers: Vec<Peer>,
    pub approximate_size: Option<i64>,
    pub approximate_keys: Option<i64>,
    pub loc: Location,
    /// Line of the `leader` key, for evidence.
    pub leader_line: Option<u64>,
    /// It came in a listing of every region (`pd-ctl region`, PD API `/regions`, a saved
    /// listing whose `count` matches), not in a filtered answer (`region store 5`,
    /// `region check miss-peer`, `region 7`) or a cut copy.
    pub complete: bool,
}

impl Region {
    pub fn has_peer_on(&self, store: StoreId) -> bool {
        self.peers.iter().any(|p| p.store_id == store)
    }

    pub fn voters(&self) -> impl Iterator<Item = &Peer> {
        self.peers
            .iter()
            .filter(|p| !matches!(p.role, PeerRole::Learner))
    }
}
