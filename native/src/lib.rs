//! The enchufe server and native client. (Being written.)
