//! What lesson 13's programs share: the certificates ([`certificates`]).

pub mod certificates;
