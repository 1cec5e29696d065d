"""Tests of the findings of the ASVS level 2 review: each module is named after one."""
