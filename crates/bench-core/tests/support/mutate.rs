//! The mutation fuzzer shared by the parser fuzz targets of bench-core and bench-workloads
//! (included by path; workspace-internal, never published).

/// Inputs per fuzz target: `FUZZ_CASES`, or 3000 (the short bounded run of CI).
pub fn cases() -> u32 {
    std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000)
}

/// A mutation: (operation, position, byte).
pub type Mutation = (u8, usize, u8);

/// Applies `muts` to a copy of `seed`: bit flips, byte changes, insertions, deletions,
/// truncations, duplications of up to `max_dup` bytes, and replacements by one of the format's
/// significant bytes (`alphabet`), so mutations reach past the tokenizer.
pub fn mutate(seed: &[u8], muts: &[Mutation], max_dup: usize, alphabet: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for &(op, pos, byte) in muts {
        if v.is_empty() {
            v.push(byte);
            continue;
        }
        let i = pos % v.len();
        match op % 7 {
            0 => v[i] ^= 1 << (byte % 8),
            1 => v[i] = byte,
            2 => v.insert(i, byte),
            3 => {
                let end = (i + 1 + byte as usize % 16).min(v.len());
                v.drain(i..end);
            }
            4 => v.truncate(i),
            5 => {
                let end = (i + 1 + byte as usize % max_dup).min(v.len());
                let chunk: Vec<u8> = v[i..end].to_vec();
                v.splice(i..i, chunk);
            }
            _ => v[i] = alphabet[byte as usize % alphabet.len()],
        }
    }
    v
}
