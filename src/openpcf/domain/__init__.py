"""Pure data types shared by every part of openpcf; imports nothing else of ours."""
