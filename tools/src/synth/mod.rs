//! Synthetic Mars sites built from published terrain models (see ROVER.md section 3).
