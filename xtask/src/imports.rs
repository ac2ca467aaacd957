//! The module's contract with its loader (`cargo xtask pack`).
//!
//! The package loads the module with its own few lines (wasm/js/enchufe.js), not wasm-bindgen's
//! glue: the module exports one class of numbers-only methods (wasm/src/machine.rs), and
//! wasm-bindgen's JavaScript for it (a loader, string passing, a class wrapper) weighed more
//! than the API's own code. That loader provides the module's imports and calls its exports by
//! name, so [`bind`] checks both here, failing the build when wasm-bindgen's output changes:
//! every import must be one the loader provides ([`IMPORTS`]), renamed to its short name (and
//! the module `"a"`), and every export the loader calls ([`EXPORTS`]) must be there, renamed
//! to its short name too; the exports it does not call go (wasm-bindgen's `__abort_handler`
//! and `__instance_terminated`, for its own glue, and its unused externref table: see
//! [`check_no_table`]), and `wasm-opt` then drops what only they used. Short names are bytes
//! saved twice: in the module and in every bundle's JavaScript (a minifier renames variables,
//! never property names).

/// The module name wasm-bindgen gives the glue's imports.
const MODULE: &str = "./enchufe_bg.js";

/// wasm-bindgen's imports the loader provides: how the name begins (a hash may follow), and
/// the loader's name for it.
const IMPORTS: &[(&str, &str)] =
    &[("__wbg___wbindgen_throw_", "t"), ("__wbindgen_init_externref_table", "x")];

/// The exports the loader calls, and its names for them.
pub(crate) const EXPORTS: &[(&str, &str)] = &[
    ("memory", "m"),
    ("machine_new", "n"),
    ("machine_buf", "b"),
    ("machine_input", "i"),
    ("machine_drive", "d"),
    ("__wbg_machine_free", "f"),
    ("__wbindgen_start", "s"),
];

/// Checks that the optimized module has no table: wasm-bindgen's externref table (its slots
/// for JavaScript values) is unused while nothing crossing the boundary is a JavaScript value,
/// so the loader does not export or fill it, and `wasm-opt` removes it. A module that uses it
/// again (a JavaScript value through the interface) would need the loader to fill it: this
/// fails the build instead of the page.
pub(crate) fn check_no_table(wasm: &[u8]) -> Result<(), String> {
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        let (size, body) = leb(wasm, at + 1)?;
        if id == 4 {
            return Err("the module has a table (wasm-bindgen's externref table in use?), which \
                        the loader (wasm/js/enchufe.js) does not fill"
                .into());
        }
        at = body + size as usize;
    }
    Ok(())
}

/// `wasm` with its imports and exports renamed for the loader (and the exports it does not
/// call removed), after checking its imports and exports.
pub(crate) fn bind(wasm: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = wasm.get(..8).ok_or("not a wasm module")?.to_vec();
    let mut exports = Vec::new();
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        let (size, body) = leb(wasm, at + 1)?;
        let end = body + size as usize;
        let section = wasm.get(body..end).ok_or("a section runs past the end")?;
        out.push(id);
        if id == 2 || id == 7 {
            let renamed = if id == 2 {
                import_section(section)?
            } else {
                exports = export_names(section)?;
                export_section(section)?
            };
            put_leb(&mut out, renamed.len() as u32);
            out.extend(renamed);
        } else {
            out.extend(&wasm[at + 1..end]);
        }
        at = end;
    }
    match EXPORTS.iter().map(|(name, _)| name).find(|name| !exports.iter().any(|e| e == *name)) {
        Some(missing) => {
            Err(format!("the module does not export {missing}, which the loader calls"))
        }
        None => Ok(out),
    }
}

/// The names of the export section's exports.
fn export_names(section: &[u8]) -> Result<Vec<String>, String> {
    let (count, mut at) = leb(section, 0)?;
    let mut names = Vec::new();
    for _ in 0..count {
        let (field, next) = name(section, at)?;
        names.push(field.to_owned());
        at = leb(section, next + 1)?.1; // the kind byte, then the index
    }
    Ok(names)
}

/// The export section with only [`EXPORTS`], under the loader's names.
fn export_section(section: &[u8]) -> Result<Vec<u8>, String> {
    let (count, mut at) = leb(section, 0)?;
    let mut kept = Vec::new();
    let mut n = 0;
    for _ in 0..count {
        let (field, next) = name(section, at)?;
        let end = leb(section, next + 1)?.1; // the kind byte, then the index
        if let Some((_, short)) = EXPORTS.iter().find(|(long, _)| *long == field) {
            put_name(&mut kept, short);
            kept.extend(&section[next..end]);
            n += 1;
        }
        at = end;
    }
    let mut out = Vec::with_capacity(kept.len() + 5);
    put_leb(&mut out, n);
    out.extend(kept);
    Ok(out)
}

/// The import section with [`MODULE`]'s imports renamed as [`IMPORTS`] says.
fn import_section(section: &[u8]) -> Result<Vec<u8>, String> {
    let (count, mut at) = leb(section, 0)?;
    let mut out = Vec::with_capacity(section.len());
    put_leb(&mut out, count);
    for _ in 0..count {
        let (module, next) = name(section, at)?;
        let (field, next) = name(section, next)?;
        let desc_end = import_desc_end(section, next)?;
        let short = IMPORTS.iter().find(|(prefix, _)| field.starts_with(prefix));
        match short {
            Some((_, short)) if module == MODULE => {
                put_name(&mut out, "a");
                put_name(&mut out, short);
            }
            _ => {
                return Err(format!(
                    "the module imports {module} {field}, which the loader (wasm/js/enchufe.js) \
                     does not provide"
                ));
            }
        }
        out.extend(&section[next..desc_end]);
        at = desc_end;
    }
    if at != section.len() {
        return Err("the import section has bytes after its imports".into());
    }
    Ok(out)
}

/// Where the import description starting at `at` ends.
fn import_desc_end(bytes: &[u8], at: usize) -> Result<usize, String> {
    let byte = |i: usize| bytes.get(i).copied().ok_or("an import is cut short");
    let limits = |i: usize| -> Result<usize, String> {
        let flags = byte(i)?;
        let (_, next) = leb(bytes, i + 1)?;
        if flags & 1 == 1 { Ok(leb(bytes, next)?.1) } else { Ok(next) }
    };
    match byte(at)? {
        0 => Ok(leb(bytes, at + 1)?.1), // function: type index
        1 => limits(at + 2),            // table: reference type, limits
        2 => limits(at + 1),            // memory: limits
        3 => Ok(at + 3),                // global: value type, mutability
        4 => Ok(leb(bytes, at + 2)?.1), // tag: attribute, type index
        kind => Err(format!("an import of unknown kind {kind}")),
    }
}

/// The name (length-prefixed UTF-8) at `at`, and where it ends.
fn name(bytes: &[u8], at: usize) -> Result<(&str, usize), String> {
    let (len, start) = leb(bytes, at)?;
    let end = start + len as usize;
    let text = bytes.get(start..end).ok_or("a name runs past the end")?;
    Ok((std::str::from_utf8(text).map_err(|_| "a name that is not UTF-8")?, end))
}

fn put_name(out: &mut Vec<u8>, name: &str) {
    put_leb(out, name.len() as u32);
    out.extend(name.as_bytes());
}

/// The unsigned LEB128 number at `at`, and where it ends.
fn leb(bytes: &[u8], mut at: usize) -> Result<(u32, usize), String> {
    let mut value = 0u32;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(at).ok_or("a number is cut short")?;
        at += 1;
        value |= u32::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok((value, at));
        }
    }
    Err("a number longer than 5 bytes".into())
}

fn put_leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loader's exports under wasm-bindgen's names, or under the loader's.
    fn long() -> Vec<&'static str> {
        EXPORTS.iter().map(|(long, _)| *long).collect()
    }
    fn short() -> Vec<&'static str> {
        EXPORTS.iter().map(|(_, short)| *short).collect()
    }

    /// A module importing `imports` and exporting `exports` (functions).
    fn module(imports: &[(&str, &str)], exports: &[&str]) -> Vec<u8> {
        let mut section = Vec::new();
        put_leb(&mut section, imports.len() as u32);
        for (module, field) in imports {
            put_name(&mut section, module);
            put_name(&mut section, field);
            section.extend([0, 0]);
        }
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend([1, 4, 1, 0x60, 0, 0]); // a type section
        wasm.push(2);
        put_leb(&mut wasm, section.len() as u32);
        wasm.extend(section);
        let mut section = Vec::new();
        put_leb(&mut section, exports.len() as u32);
        for export in exports {
            put_name(&mut section, export);
            section.extend([0, 0]);
        }
        wasm.push(7);
        put_leb(&mut wasm, section.len() as u32);
        wasm.extend(section);
        wasm
    }

    const THROW: (&str, &str) = (MODULE, "__wbg___wbindgen_throw_0123456789abcdef");
    const TABLE: (&str, &str) = (MODULE, "__wbindgen_init_externref_table");

    #[test]
    fn renames_the_imports_and_exports_for_the_loader() {
        let mut exports = long();
        exports.push("__abort_handler");
        let wasm = bind(&module(&[THROW, TABLE], &exports)).unwrap();
        assert_eq!(wasm, module(&[("a", "t"), ("a", "x")], &short()));
    }

    #[test]
    fn refuses_a_module_with_a_table() {
        assert!(check_no_table(&module(&[THROW], &long())).is_ok());
        let mut wasm = module(&[THROW], &long());
        wasm.extend([4, 4, 1, 0x6f, 0, 1]); // one externref table of at least 1
        assert!(check_no_table(&wasm).unwrap_err().contains("table"));
    }

    #[test]
    fn refuses_an_import_the_loader_does_not_provide_or_a_missing_export() {
        let other = (MODULE, "__wbg_now_0123456789abcdef");
        assert!(bind(&module(&[THROW, other], &long())).unwrap_err().contains("__wbg_now_"));
        assert!(bind(&module(&[("env", "x")], &long())).is_err());
        let fewer = &long()[1..];
        assert!(bind(&module(&[THROW], fewer)).unwrap_err().contains("memory"));
    }
}
