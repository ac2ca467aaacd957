//! Short import names for the npm package's module (`cargo xtask pack`).
//!
//! wasm-bindgen names each import the module takes from its glue `__wbg_<name>_<16 hex
//! digits>` (or `__wbindgen_…`), from the module `"./enchufe_bg.js"`, and spells every name
//! twice: in the module's import section and as a key of the glue's imports object, which no
//! minifier renames. The hashes do not compress: ~100 imports cost about 1.5 KB gzipped.
//! [`shorten`] renames them `a`, `b`, … (and the module `"a"`) on both sides, and likewise the
//! exports that carry a hash, the closures' `wasm_bindgen__convert__closures_____invoke__h…`
//! (`i0`, `i1`, …), which the glue calls as `wasm.<name>(`.

/// The module name wasm-bindgen's `web` target gives the glue's imports.
const MODULE: &str = "./enchufe_bg.js";

/// How the exports [`shorten`] renames begin.
const INVOKE: &str = "wasm_bindgen__convert__closures_____invoke__";

/// `wasm` and `glue` with every import of [`MODULE`] renamed (the n-th import `short(n)`, the
/// module `"a"`) and every [`INVOKE`] export (`i0`, `i1`, …); also the renamed exports, old
/// name and new, for the declarations. Fails, changing nothing, on a module it cannot read or
/// a glue where a name is not exactly one object key or one call.
pub(crate) fn shorten(wasm: &[u8], glue: &str) -> Result<Shortened, String> {
    let mut out = wasm.get(..8).ok_or("not a wasm module")?.to_vec();
    let mut glue = glue.to_owned();
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
                import_section(section, &mut glue)?
            } else {
                export_section(section, &mut glue, &mut exports)?
            };
            put_leb(&mut out, renamed.len() as u32);
            out.extend(renamed);
        } else {
            out.extend(&wasm[at + 1..end]);
        }
        at = end;
    }
    let key = format!("\"{MODULE}\":");
    if glue.matches(&key).count() != 1 {
        return Err(format!("the glue does not name the module {MODULE} once"));
    }
    Ok(Shortened { wasm: out, glue: glue.replacen(&key, "a:", 1), exports })
}

/// What [`shorten`] made.
pub(crate) struct Shortened {
    pub(crate) wasm: Vec<u8>,
    pub(crate) glue: String,
    /// Each renamed export: its old name and its new one.
    pub(crate) exports: Vec<(String, String)>,
}

/// The export section with the [`INVOKE`] exports renamed in it and in `glue`.
fn export_section(
    section: &[u8],
    glue: &mut String,
    renamed: &mut Vec<(String, String)>,
) -> Result<Vec<u8>, String> {
    let (count, mut at) = leb(section, 0)?;
    let mut out = Vec::with_capacity(section.len());
    put_leb(&mut out, count);
    for _ in 0..count {
        let (field, next) = name(section, at)?;
        let (_, end) = leb(section, next + 1)?; // the kind byte, then the index
        if field.starts_with(INVOKE) {
            let short = format!("i{}", renamed.len());
            let call = format!("wasm.{field}(");
            if glue.matches(&call).count() != 1 {
                return Err(format!("the export {field} is not called once in the glue"));
            }
            *glue = glue.replacen(&call, &format!("wasm.{short}("), 1);
            put_name(&mut out, &short);
            renamed.push((field.to_owned(), short));
        } else {
            put_name(&mut out, field);
        }
        out.extend(&section[next..end]);
        at = end;
    }
    if at != section.len() {
        return Err("the export section has bytes after its exports".into());
    }
    Ok(out)
}

/// The import section with the names of [`MODULE`]'s imports replaced in it and in `glue`.
fn import_section(section: &[u8], glue: &mut String) -> Result<Vec<u8>, String> {
    let (count, mut at) = leb(section, 0)?;
    let mut out = Vec::with_capacity(section.len());
    put_leb(&mut out, count);
    for n in 0..count {
        let (module, next) = name(section, at)?;
        let (field, next) = name(section, next)?;
        let desc_end = import_desc_end(section, next)?;
        if module == MODULE {
            let short = short(n);
            let key = format!("{field}:");
            let old = format!("\n        {key}");
            if glue.matches(&key).count() != 1 || glue.matches(&old).count() != 1 {
                return Err(format!("the import {field} is not one key of the glue"));
            }
            *glue = glue.replacen(&old, &format!("\n        {short}:"), 1);
            put_name(&mut out, "a");
            put_name(&mut out, &short);
        } else {
            put_name(&mut out, module);
            put_name(&mut out, field);
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

/// The n-th short name: `a`…`z`, `A`…`Z`, then two letters.
fn short(n: u32) -> String {
    const LETTERS: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let letter = |i: u32| char::from(LETTERS[i as usize % 52]);
    if n < 52 { letter(n).into() } else { [letter(n / 52 - 1), letter(n % 52)].iter().collect() }
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

    /// A module importing two functions from the glue and a memory from elsewhere.
    fn module() -> Vec<u8> {
        let mut imports = Vec::new();
        put_leb(&mut imports, 3);
        for (module, field, desc) in [
            (MODULE, "__wbg_now_0123456789abcdef", &[0u8, 0][..]),
            ("env", "memory", &[2, 1, 1, 2][..]),
            (MODULE, "__wbindgen_init_externref_table", &[0, 1][..]),
        ] {
            put_name(&mut imports, module);
            put_name(&mut imports, field);
            imports.extend(desc);
        }
        let mut exports = Vec::new();
        put_leb(&mut exports, 2);
        put_name(&mut exports, "client_new");
        exports.extend([0, 2]);
        put_name(&mut exports, &format!("{INVOKE}h0123456789abcdef_18"));
        exports.extend([0, 3]);
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend([1, 4, 1, 0x60, 0, 0]); // a type section
        wasm.push(2);
        put_leb(&mut wasm, imports.len() as u32);
        wasm.extend(imports);
        wasm.push(7);
        put_leb(&mut wasm, exports.len() as u32);
        wasm.extend(exports);
        wasm
    }

    const GLUE: &str = "const import0 = {\n        __wbg_now_0123456789abcdef: function() {},\n        __wbindgen_init_externref_table: function() {},\n    };\n    return { \"./enchufe_bg.js\": import0 };\n    wasm.wasm_bindgen__convert__closures_____invoke__h0123456789abcdef_18(a, b);\n";

    #[test]
    fn renames_the_glues_imports_on_both_sides() {
        let Shortened { wasm, glue, exports } = shorten(&module(), GLUE).unwrap();
        assert_eq!(
            glue,
            "const import0 = {\n        a: function() {},\n        c: function() {},\n    };\n    return { a: import0 };\n    wasm.i0(a, b);\n"
        );
        assert_eq!(exports, [(format!("{INVOKE}h0123456789abcdef_18"), "i0".to_owned())]);
        assert_eq!(wasm[14], 2, "the import section");
        let (size, body) = leb(&wasm, 15).unwrap();
        let (count, mut at) = leb(&wasm, body).unwrap();
        let mut names = Vec::new();
        for _ in 0..count {
            let (module, next) = name(&wasm, at).unwrap();
            let (field, next) = name(&wasm, next).unwrap();
            names.push((module, field));
            at = import_desc_end(&wasm, next).unwrap();
        }
        assert_eq!(names, [("a", "a"), ("env", "memory"), ("a", "c")]);
        assert_eq!(at, body + size as usize, "the section's size");
        assert_eq!(wasm[at], 7, "the export section");
        let (size, body) = leb(&wasm, at + 1).unwrap();
        assert_eq!(body + size as usize, wasm.len(), "its size");
        let (count, at) = leb(&wasm, body).unwrap();
        assert_eq!(count, 2);
        let (first, at) = name(&wasm, at).unwrap();
        let (second, at) = name(&wasm, at + 2).unwrap();
        assert_eq!((first, second), ("client_new", "i0"));
        assert_eq!(&wasm[at..], [0, 3]);
    }

    #[test]
    fn refuses_a_glue_that_does_not_name_an_import_once() {
        let twice = GLUE.replace("return", "__wbg_now_0123456789abcdef: 1, return");
        assert!(shorten(&module(), &twice).is_err());
        assert!(shorten(&module(), &GLUE.replace("./enchufe_bg.js", "x")).is_err());
    }

    #[test]
    fn short_names_are_letters() {
        assert_eq!([short(0), short(25), short(26), short(51)], ["a", "z", "A", "Z"]);
        assert_eq!([short(52), short(53), short(104)], ["aa", "ab", "ba"]);
    }
}
