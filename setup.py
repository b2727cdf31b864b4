"""famt_mm: FAMT (Frequency & Attention-driven Masking and Throwing) for OpenMMLab."""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r"__version__ = '([^']+)'", (HERE / 'famt_mm' / 'version.py').read_text()).group(1)


def parse_requirements(name: str) -> list:
    """Requirement lines of requirements/<name>.txt, as OpenMMLab's packages keep them: ranges, one a
    line, comments and blank lines ignored. The exact tested versions are in requirements/constraints*.txt,
    which no install requirement pins."""
    lines = (HERE / 'requirements' / f'{name}.txt').read_text().splitlines()
    return [line.split('#', 1)[0].strip() for line in lines if line.split('#', 1)[0].strip()]


EXTRAS = {name: parse_requirements(name) for name in ('det', 'seg', 'demo', 'tests', 'mminstall')}

setup(
    name='famt_mm',
    version=VERSION,
    description='FAMT: Frequency & Attention-driven Masking and Throwing for masked image modeling, '
                'as an OpenMMLab (mmpretrain / mmdet / mmseg) plugin',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    python_requires='>=3.9',
    packages=find_packages(include=['famt_mm', 'famt_mm.*']),
    # the pretraining core; mmcv (or mmcv-lite) is checked when famt_mm is imported, see mminstall.txt
    install_requires=parse_requirements('runtime'),
    extras_require={
        'det': EXTRAS['det'],
        'seg': EXTRAS['seg'],
        'demo': EXTRAS['demo'],
        'tests': EXTRAS['tests'],
        'all': EXTRAS['det'] + EXTRAS['seg'] + EXTRAS['demo'],
        # for `mim install -e ".[mim]"`, which finds mmcv wheels built for the installed torch
        'mim': EXTRAS['mminstall'],
    },
    license='Apache-2.0',
)
