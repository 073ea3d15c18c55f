//! Where a test keeps its data: a SQLite file in a scratch folder, or a scratch
//! PostgreSQL database; one of either that several apps (or binaries) share.

use super::{Scratch, postgres::ScratchDatabase};

pub struct TestDatabase {
    pub url: String,
    /// Where the SQLite file (and anything else the test writes) lives.
    pub scratch: Scratch,
    postgres: Option<ScratchDatabase>,
}

impl TestDatabase {
    pub async fn create(postgres: bool) -> TestDatabase {
        let scratch = Scratch::create();
        if postgres {
            let db = ScratchDatabase::create().await;
            TestDatabase {
                url: db.url(),
                postgres: Some(db),
                scratch,
            }
        } else {
            TestDatabase {
                url: scratch.sqlite_url(),
                postgres: None,
                scratch,
            }
        }
    }

    pub async fn drop_database(self) {
        if let Some(db) = self.postgres {
            db.drop_database().await;
        }
    }
}
