//! PublishService and PoolService against the real RabbitMQ on this machine (the
//! `rabbitmq` nextest group runs them one at a time).

mod broker_faults;
mod delivery;
mod memory_alarm;
mod pools;
