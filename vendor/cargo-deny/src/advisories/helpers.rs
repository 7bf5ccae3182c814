pub mod db;
pub(super) mod index;
mod parse;
