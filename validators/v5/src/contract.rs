//! The shape of the contract as data: a field a translator reads (its key, when it must be there, how
//! its value is read) and a table (its fields and which actions its translators take). The facts are
//! in `tables.rs` and `tables_remote.rs`; `fields.rs` applies them. Nothing here is behaviour.

use crate::kinds::Kind;

/// When a field must be in `recordData` (§2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Need {
    /// R: a plain field — present, of its type; `null` is an error.
    Required,
    /// KEY: a custom deserialiser without `serde(default)` — the key must be present; the
    /// deserialiser decides whether an empty value (`""`, `null`, a zero date) is fine.
    Key,
    /// opt: `Option<T>` (or a custom deserialiser with `serde(default)`) — may be left out; `null` is
    /// None for plain types and up to the deserialiser otherwise. A wrong type is still an error.
    Optional,
    /// opt through `serde(default)` on a plain type — may be left out, but `null` is an error.
    Defaulted,
}

/// One key a translator reads from `recordData`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) need: Need,
    pub(crate) kind: Kind,
}

/// R: present and of the right type.
pub(crate) const fn r(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        need: Need::Required,
        kind,
    }
}

/// KEY: the key must be present; its value may be empty per its deserialiser.
pub(crate) const fn key(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        need: Need::Key,
        kind,
    }
}

/// opt: may be left out; `null` is None.
pub(crate) const fn opt(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        need: Need::Optional,
        kind,
    }
}

/// opt with a default: may be left out, `null` is an error.
pub(crate) const fn defaulted(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        need: Need::Defaulted,
        kind,
    }
}

/// What the table's translators do with a `Delete`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delete {
    /// No translator takes a delete: "translator for record not found" (harmless, logged).
    Unsupported,
    /// The row is removed.
    Removes,
    /// The row stays, marked inactive or deleted (a soft delete).
    Deactivates,
    /// A translator takes it, logs it and ignores it.
    Ignores,
}

/// One legacy table a translator handles.
#[derive(Debug)]
pub(crate) struct Table {
    /// The `tableName`, case-sensitive.
    pub(crate) name: &'static str,
    /// Every key any of the table's translators reads from an upsert's `recordData`.
    pub(crate) fields: &'static [Field],
    pub(crate) delete: Delete,
    /// `Merge` records (`mergeIdToKeep`/`mergeIdToDelete`) are taken.
    pub(crate) merge: bool,
}

/// A table whose translators take upserts only.
pub(crate) const fn table(name: &'static str, fields: &'static [Field]) -> Table {
    Table {
        name,
        fields,
        delete: Delete::Unsupported,
        merge: false,
    }
}

/// The same table with delete support.
pub(crate) const fn deletes(mut table: Table, delete: Delete) -> Table {
    table.delete = delete;
    table
}

/// The same table with merge support.
pub(crate) const fn merges(mut table: Table) -> Table {
    table.merge = true;
    table
}
