//! A checked, borrowed full-state record (smoltcp's `Packet::new_checked`
//! idea): every receive check of [`StateRecord::decode`] without copying the
//! record out. The engine can validate a whole section, look at the identity,
//! timeout and peers it needs for an update, and decode the full record only
//! when it must import it.

use super::action::MsgVersion;
use super::field::{be16, be32, get, u8_at};
use super::flags::{StateFlags, SyncFlags};
use super::peer::{self, WirePeer};
use super::state::{has_nul, Peer, StateId, StateRecord};
use super::state_format::{
    check_values, common_field, v1301_field, v1400_field, v1500_field, StateChecks,
};
use super::Reject;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateView<'a> {
    /// Exactly `version.state_len()` bytes.
    bytes: &'a [u8],
    version: MsgVersion,
}

impl<'a> StateView<'a> {
    /// Checks the first `version.state_len()` bytes of `bytes` as `decode`
    /// would, in the same order, naming the same failure.
    pub fn new_checked(
        bytes: &'a [u8],
        version: MsgVersion,
        checks: StateChecks,
    ) -> Result<StateView<'a>, Reject> {
        // Each format is narrowed once to a fixed-size array, so every field
        // read below is at a constant offset inside a known length: no
        // per-field bounds checks survive.
        let bytes: &'a [u8] = match version {
            MsgVersion::V1301 => {
                let b = fixed::<{ v1301_field::LEN }>(bytes)?;
                check_prefix(
                    b,
                    u8_at(b, v1301_field::TIMEOUT),
                    u8_at(b, v1301_field::DIRECTION),
                    u8_at(b, v1301_field::AF),
                    checks,
                )?;
                b
            }
            MsgVersion::V1400 => {
                let b = fixed::<{ v1400_field::LEN }>(bytes)?;
                check_prefix(
                    b,
                    u8_at(b, v1400_field::TIMEOUT),
                    u8_at(b, v1400_field::DIRECTION),
                    u8_at(b, v1400_field::AF),
                    checks,
                )?;
                if !has_nul(&get(b, v1400_field::RT_IFNAME)) {
                    return Err(Reject::RtIfName);
                }
                b
            }
            MsgVersion::V1500 => {
                let b = fixed::<{ v1500_field::LEN }>(bytes)?;
                check_prefix(
                    b,
                    u8_at(b, v1500_field::TIMEOUT),
                    u8_at(b, v1500_field::DIRECTION),
                    u8_at(b, v1500_field::WIRE_AF),
                    checks,
                )?;
                // All three names are scanned, then the first failure is
                // named in decode's order (rt_ifname, orig_ifname, tagname).
                let rt = has_nul(&get(b, v1500_field::RT_IFNAME));
                let orig = has_nul(&get(b, v1500_field::ORIG_IFNAME));
                let tag = has_nul(&get(b, v1500_field::TAGNAME));
                if !(rt && orig && tag) {
                    return Err(if !rt {
                        Reject::RtIfName
                    } else if !orig {
                        Reject::OrigIfName
                    } else {
                        Reject::TagName
                    });
                }
                b
            }
        };
        Ok(StateView { bytes, version })
    }

    pub fn version(&self) -> MsgVersion {
        self.version
    }

    /// The record's bytes, exactly `version().state_len()` long.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    pub fn state_id(&self) -> StateId {
        StateId {
            id: get(self.bytes, common_field::ID),
            creatorid: get(self.bytes, common_field::CREATORID),
        }
    }

    pub fn src(&self) -> Peer {
        peer::decode(&get(self.bytes, common_field::SRC))
    }

    /// The src peer's 32 bytes as sent, for a host that merges wire peers.
    #[inline]
    pub fn src_wire(&self) -> WirePeer {
        WirePeer(get(self.bytes, common_field::SRC))
    }

    pub fn dst(&self) -> Peer {
        peer::decode(&get(self.bytes, common_field::DST))
    }

    /// The dst peer's 32 bytes as sent, for a host that merges wire peers.
    #[inline]
    pub fn dst_wire(&self) -> WirePeer {
        WirePeer(get(self.bytes, common_field::DST))
    }

    pub fn timeout(&self) -> u8 {
        match self.version {
            MsgVersion::V1301 => u8_at(self.bytes, v1301_field::TIMEOUT),
            MsgVersion::V1400 => u8_at(self.bytes, v1400_field::TIMEOUT),
            MsgVersion::V1500 => u8_at(self.bytes, v1500_field::TIMEOUT),
        }
    }

    /// `PFSTATE_*`, unknown bits kept; 1301 carries only the low 8 bits.
    pub fn state_flags(&self) -> StateFlags {
        StateFlags::from_bits_retain(match self.version {
            MsgVersion::V1301 => u16::from(u8_at(self.bytes, v1301_field::STATE_FLAGS)),
            MsgVersion::V1400 => be16(self.bytes, v1400_field::STATE_FLAGS),
            MsgVersion::V1500 => be16(self.bytes, v1500_field::STATE_FLAGS),
        })
    }

    /// `PFSYNC_FLAG_*`, unknown bits kept; 1500 has none.
    pub fn sync_flags(&self) -> SyncFlags {
        SyncFlags::from_bits_retain(match self.version {
            MsgVersion::V1301 => u8_at(self.bytes, v1301_field::SYNC_FLAGS),
            MsgVersion::V1400 => u8_at(self.bytes, v1400_field::SYNC_FLAGS),
            MsgVersion::V1500 => 0,
        })
    }

    pub fn expire(&self) -> u32 {
        be32(self.bytes, common_field::EXPIRE)
    }

    /// The whole record, decoded. Cannot fail: the view is checked.
    pub fn to_record(&self) -> StateRecord {
        let mut s = StateRecord::default();
        // The view passed the Update checks at least, which are all decode
        // applies with `Update`; on the impossible error `s` stays default.
        let _ = s.decode_into(self.bytes, self.version, StateChecks::Update);
        s
    }
}

#[inline(always)]
fn fixed<const LEN: usize>(bytes: &[u8]) -> Result<&[u8; LEN], Reject> {
    bytes.first_chunk::<LEN>().ok_or(Reject::Short)
}

/// The checks every format shares, in `decode`'s order: values, interface
/// name, creator id.
#[inline(always)]
fn check_prefix<const LEN: usize>(
    b: &[u8; LEN],
    timeout: u8,
    direction: u8,
    af: u8,
    checks: StateChecks,
) -> Result<(), Reject> {
    check_values(
        timeout,
        u8_at(b, peer::state_field(common_field::SRC)),
        u8_at(b, peer::state_field(common_field::DST)),
        direction,
        af,
        checks,
    )?;
    if !has_nul(&get(b, common_field::IFNAME)) {
        return Err(Reject::IfName);
    }
    if get(b, common_field::CREATORID) == [0; 4] {
        return Err(Reject::CreatorId);
    }
    Ok(())
}
