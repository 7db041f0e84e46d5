//! The bulk sender's default pace, derived from the sync link's speed.
//!
//! A fixed pace cannot fit every link: 100 MB/s is more than a 100 Mb/s or
//! 1 Gb/s link carries (the receiver drops frames and the bulk is retried)
//! and a tenth of a 10 Gb/s one. Where the host knows the sync interface's
//! speed (FreeBSD's `if_baudrate`, Linux's `/sys/class/net/IF/speed`) the
//! default is 80% of it, leaving room for ordinary pfsync traffic and the
//! link's own framing; an explicit pace set by the operator always wins.
//!
//! The derived pace never exceeds [`DEFAULT_BULK_RATE_BYTES_PER_SEC`]. A
//! link's claimed speed says nothing about how fast the receiver can import
//! states, and a stock receiver has no repair after BUS END: what it drops
//! is lost until the states change. Virtual interfaces claim arbitrary
//! speeds (FreeBSD's `vtnet` and `epair` 10 Gb/s, Linux's veth 10 Gb/s);
//! paced at 80% of vtnet's claim, a stock FreeBSD 15.1 receiver got 8,720
//! of 10,000 states, and at 100 MB/s all of them (stage 71). Faster links
//! that want more set the pace explicitly.

/// Pace when the link speed is unknown, and the most a derived pace gives:
/// 100 MB/s, 80% of a 1 Gb/s link.
pub const DEFAULT_BULK_RATE_BYTES_PER_SEC: u64 = 100_000_000;

/// Share of the link the bulk may use, in percent.
pub const LINK_SHARE_PERCENT: u64 = 80;

/// Bulk pace in bytes per second for a link of `bits_per_sec`: 80% of it,
/// at most [`DEFAULT_BULK_RATE_BYTES_PER_SEC`], which is also the pace when
/// the speed is unknown (0). Never 0, which would mean "unpaced".
pub const fn bulk_rate_for_link(bits_per_sec: u64) -> u64 {
    if bits_per_sec == 0 {
        return DEFAULT_BULK_RATE_BYTES_PER_SEC;
    }
    let rate = bits_per_sec / 8 / 100 * LINK_SHARE_PERCENT
        + bits_per_sec / 8 % 100 * LINK_SHARE_PERCENT / 100;
    if rate == 0 {
        1
    } else if rate > DEFAULT_BULK_RATE_BYTES_PER_SEC {
        DEFAULT_BULK_RATE_BYTES_PER_SEC
    } else {
        rate
    }
}

/// The pace to configure: the operator's explicit rate when given (not 0),
/// else the one derived from the link speed.
pub const fn bulk_rate(explicit_bytes_per_sec: u64, link_bits_per_sec: u64) -> u64 {
    if explicit_bytes_per_sec != 0 {
        explicit_bytes_per_sec
    } else {
        bulk_rate_for_link(link_bits_per_sec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighty_percent_of_known_links() {
        assert_eq!(bulk_rate_for_link(10_000_000), 1_000_000);
        assert_eq!(bulk_rate_for_link(100_000_000), 10_000_000);
        assert_eq!(bulk_rate_for_link(1_000_000_000), 100_000_000);
    }

    #[test]
    fn a_claimed_fast_link_does_not_outrun_the_receiver() {
        // vtnet's and epair's arbitrary 10 Gb/s, and real fast links alike.
        assert_eq!(
            bulk_rate_for_link(10_000_000_000),
            DEFAULT_BULK_RATE_BYTES_PER_SEC
        );
        assert_eq!(
            bulk_rate_for_link(400_000_000_000),
            DEFAULT_BULK_RATE_BYTES_PER_SEC
        );
    }

    #[test]
    fn unknown_speed_keeps_the_old_default() {
        assert_eq!(bulk_rate_for_link(0), DEFAULT_BULK_RATE_BYTES_PER_SEC);
    }

    #[test]
    fn never_unpaced_and_never_overflows() {
        assert_eq!(bulk_rate_for_link(1), 1);
        assert_eq!(bulk_rate_for_link(9), 1);
        assert_eq!(
            bulk_rate_for_link(u64::MAX),
            DEFAULT_BULK_RATE_BYTES_PER_SEC
        );
    }

    #[test]
    fn explicit_rate_wins() {
        assert_eq!(bulk_rate(5_000, 1_000_000_000), 5_000);
        assert_eq!(bulk_rate(0, 1_000_000_000), 100_000_000);
        assert_eq!(bulk_rate(0, 0), DEFAULT_BULK_RATE_BYTES_PER_SEC);
    }
}
