//! The MN engine fed with frames built by `wire`.
