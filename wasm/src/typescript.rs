//! The package's TypeScript declarations are hand-written in `js/enchufe.d.ts`, next to the
//! JavaScript API they describe (`js/enchufe.js`). A native unit test keeps their `ErrorName`
//! in step with the core's error-code table.

#[cfg(test)]
mod tests {
    use enchufe_core::ErrorCode;

    use crate::prelude::*;

    /// The package's declarations.
    const TYPES: &str = include_str!("../js/enchufe.d.ts");

    /// The `ErrorName` union lists exactly the core's error names, in its order.
    #[test]
    fn error_names_match_the_core_table() {
        let start = TYPES.find("export type ErrorName =").expect("ErrorName is declared");
        let end = start + TYPES[start..].find(';').expect("the union ends");
        let declared: Vec<&str> = TYPES[start..end].split('"').skip(1).step_by(2).collect();
        let table: Vec<&str> = ErrorCode::ALL.iter().map(|code| code.name()).collect();
        assert_eq!(declared, table);
    }
}
