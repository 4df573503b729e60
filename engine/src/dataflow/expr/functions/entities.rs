//! The named character references of HTML 4.01 (its Latin-1, special and symbol sets),
//! which `escape(x, 'html')` writes and `unescape(x, 'html')` reads.

/// Names of U+00A0 to U+00FF, in order.
const LATIN1: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

/// Greek capitals from U+0391, in order; U+03A2 has none.
const GREEK_CAPITALS: [&str; 25] = [
    "Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota", "Kappa",
    "Lambda", "Mu", "Nu", "Xi", "Omicron", "Pi", "Rho", "", "Sigma", "Tau", "Upsilon", "Phi",
    "Chi", "Psi", "Omega",
];

/// Greek small letters from U+03B1, in order.
const GREEK_SMALL: [&str; 25] = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigmaf", "sigma", "tau", "upsilon", "phi",
    "chi", "psi", "omega",
];

/// The rest of the special and symbol sets.
const OTHERS: &[(u32, &str)] = &[
    (338, "OElig"),
    (339, "oelig"),
    (352, "Scaron"),
    (353, "scaron"),
    (376, "Yuml"),
    (402, "fnof"),
    (710, "circ"),
    (732, "tilde"),
    (977, "thetasym"),
    (978, "upsih"),
    (982, "piv"),
    (8194, "ensp"),
    (8195, "emsp"),
    (8201, "thinsp"),
    (8204, "zwnj"),
    (8205, "zwj"),
    (8206, "lrm"),
    (8207, "rlm"),
    (8211, "ndash"),
    (8212, "mdash"),
    (8216, "lsquo"),
    (8217, "rsquo"),
    (8218, "sbquo"),
    (8220, "ldquo"),
    (8221, "rdquo"),
    (8222, "bdquo"),
    (8224, "dagger"),
    (8225, "Dagger"),
    (8226, "bull"),
    (8230, "hellip"),
    (8240, "permil"),
    (8242, "prime"),
    (8243, "Prime"),
    (8249, "lsaquo"),
    (8250, "rsaquo"),
    (8254, "oline"),
    (8260, "frasl"),
    (8364, "euro"),
    (8465, "image"),
    (8472, "weierp"),
    (8476, "real"),
    (8482, "trade"),
    (8501, "alefsym"),
    (8592, "larr"),
    (8593, "uarr"),
    (8594, "rarr"),
    (8595, "darr"),
    (8596, "harr"),
    (8629, "crarr"),
    (8656, "lArr"),
    (8657, "uArr"),
    (8658, "rArr"),
    (8659, "dArr"),
    (8660, "hArr"),
    (8704, "forall"),
    (8706, "part"),
    (8707, "exist"),
    (8709, "empty"),
    (8711, "nabla"),
    (8712, "isin"),
    (8713, "notin"),
    (8715, "ni"),
    (8719, "prod"),
    (8721, "sum"),
    (8722, "minus"),
    (8727, "lowast"),
    (8730, "radic"),
    (8733, "prop"),
    (8734, "infin"),
    (8736, "ang"),
    (8743, "and"),
    (8744, "or"),
    (8745, "cap"),
    (8746, "cup"),
    (8747, "int"),
    (8756, "there4"),
    (8764, "sim"),
    (8773, "cong"),
    (8776, "asymp"),
    (8800, "ne"),
    (8801, "equiv"),
    (8804, "le"),
    (8805, "ge"),
    (8834, "sub"),
    (8835, "sup"),
    (8836, "nsub"),
    (8838, "sube"),
    (8839, "supe"),
    (8853, "oplus"),
    (8855, "otimes"),
    (8869, "perp"),
    (8901, "sdot"),
    (8968, "lceil"),
    (8969, "rceil"),
    (8970, "lfloor"),
    (8971, "rfloor"),
    (9001, "lang"),
    (9002, "rang"),
    (9674, "loz"),
    (9824, "spades"),
    (9827, "clubs"),
    (9829, "hearts"),
    (9830, "diams"),
];

/// The entity name of a character, for the characters HTML 4 names beyond `"&<>`.
pub(super) fn name_of(c: char) -> Option<&'static str> {
    let code = u32::from(c);
    let name = match code {
        0xA0..=0xFF => LATIN1[(code - 0xA0) as usize],
        0x391..=0x3A9 => GREEK_CAPITALS[(code - 0x391) as usize],
        0x3B1..=0x3C9 => GREEK_SMALL[(code - 0x3B1) as usize],
        _ => OTHERS.iter().find(|(c, _)| *c == code)?.1,
    };
    Some(name).filter(|n| !n.is_empty())
}

/// The character an entity name stands for (the name without `&` and `;`).
pub(super) fn char_of(name: &str) -> Option<char> {
    let position = |table: &[&str]| table.iter().position(|n| *n == name).map(|i| i as u32);
    let code = if let Some(i) = position(&LATIN1) {
        0xA0 + i
    } else if let Some(i) = position(&GREEK_CAPITALS).filter(|_| !name.is_empty()) {
        0x391 + i
    } else if let Some(i) = position(&GREEK_SMALL) {
        0x3B1 + i
    } else {
        OTHERS.iter().find(|(_, n)| *n == name)?.0
    };
    char::from_u32(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_as_its_character() {
        let named: Vec<char> = (0xA0..0x2700)
            .filter_map(char::from_u32)
            .filter(|c| name_of(*c).is_some())
            .collect();
        // HTML 4.01 names 252 characters; 4 of them (`"&<>`) are escaped apart.
        assert_eq!(named.len(), 248);
        for c in named {
            let name = name_of(c).unwrap();
            assert_eq!(char_of(name), Some(c), "{name}");
        }
        assert_eq!(name_of('\u{3C2}'), Some("sigmaf"));
        assert_eq!(name_of('\u{3C9}'), Some("omega"));
        assert_eq!(char_of("hearts"), Some('\u{2665}'));
        assert_eq!(char_of("apos"), None);
    }
}
