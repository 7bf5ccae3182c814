mod collector;
pub mod model;

pub use collector::SarifCollector;
