"""Review with the evidence (photos, keypoints, DNA), individuals and the media browser."""
