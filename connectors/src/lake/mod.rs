//! Lake storage.
