//! How much of a client certificate chain the server and the validator
//! look at: at most [`MAX_INTERMEDIATES`] certificates besides the leaf and
//! [`MAX_CHAIN_BYTES`] of DER in all. RFC 5280 path building tries orders
//! of the certificates it is given, parsing one at each step: unbounded, a
//! 55 KB chain of ten self-issued "CAs" cost seconds of CPU. Within these
//! bounds a path search takes at most 4 + 4·3 + 4·3·2 + 4! = 64 steps over
//! 16 KiB, whatever the chain holds. Real chains are a leaf and one or two
//! intermediates of 1–2 KB each.

/// Certificates after the leaf that are looked at, at most.
pub const MAX_INTERMEDIATES: usize = 4;

/// DER bytes of the whole chain, the leaf included, at most.
pub const MAX_CHAIN_BYTES: usize = 16 * 1024;

/// Why a chain is not looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainTooLarge {
    /// More than [`MAX_INTERMEDIATES`] certificates after the leaf.
    TooMany(usize),
    /// More than [`MAX_CHAIN_BYTES`] of DER (at least this many).
    TooLong(usize),
}

impl std::fmt::Display for ChainTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooMany(n) => write!(
                f,
                "the certificate chain holds {n} certificates after the leaf (at most {MAX_INTERMEDIATES})"
            ),
            Self::TooLong(n) => write!(
                f,
                "the certificate chain is {n} bytes of DER (at most {MAX_CHAIN_BYTES})"
            ),
        }
    }
}

impl std::error::Error for ChainTooLarge {}

/// Whether a chain (leaf first, DER) is within the bounds; only the
/// certificates' lengths are read, nothing is parsed.
pub fn within_limits<'a>(chain: impl IntoIterator<Item = &'a [u8]>) -> Result<(), ChainTooLarge> {
    let (mut count, mut bytes) = (0usize, 0usize);
    for der in chain {
        count += 1;
        bytes = bytes.saturating_add(der.len());
    }
    let intermediates = count.saturating_sub(1);
    if intermediates > MAX_INTERMEDIATES {
        return Err(ChainTooLarge::TooMany(intermediates));
    }
    if bytes > MAX_CHAIN_BYTES {
        return Err(ChainTooLarge::TooLong(bytes));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_is_bounded_by_its_count_and_its_bytes_leaf_included() {
        let sizes = |sizes: &[usize]| -> Result<(), ChainTooLarge> {
            let chain: Vec<Vec<u8>> = sizes.iter().map(|n| vec![0; *n]).collect();
            within_limits(chain.iter().map(Vec::as_slice))
        };
        assert_eq!(sizes(&[]), Ok(()));
        assert_eq!(sizes(&[1_000; 5]), Ok(()));
        assert_eq!(
            sizes(&[100; 6]),
            Err(ChainTooLarge::TooMany(5)),
            "five after the leaf"
        );
        assert_eq!(sizes(&[MAX_CHAIN_BYTES]), Ok(()));
        assert_eq!(
            sizes(&[MAX_CHAIN_BYTES - 10, 11]),
            Err(ChainTooLarge::TooLong(MAX_CHAIN_BYTES + 1)),
            "the leaf counts in the bytes"
        );
    }
}
