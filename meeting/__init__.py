"""Kurumaza: deliberative town meetings, online and hybrid."""
