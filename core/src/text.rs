//! Messages built without `core::fmt`: the browser package has no other use for the formatting
//! machinery (`write`, `pad`, integer `Display`), and leaves it out when nothing here calls it
//! (wasm/README.md, "Size"). The texts are the ones `format!` would write. Public for the
//! browser client, which builds its messages the same way.

use crate::prelude::*;

/// `parts` one after the other, as `parts.concat()` makes them, without std's generic join
/// (a KB of the browser package).
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// `n` in decimal, as `n.to_string()` writes it.
pub fn decimal(n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    digits[at..].iter().map(|&d| char::from(d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn concat_is_slice_concat() {
        assert_eq!(concat(&[]), "");
        assert_eq!(concat(&["a", "", "bc", "ñ"]), ["a", "", "bc", "ñ"].concat());
    }

    #[test]
    fn decimal_writes_what_to_string_writes() {
        for n in [0, 7, 10, 42, 99, 100, 65_535, 1 << 53, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }
}
