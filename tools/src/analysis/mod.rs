//! Terrain analysis products, one per file: slope (Horn), roughness and step height, rover tilt.
