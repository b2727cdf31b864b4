"""famt_mm: FAMT (Frequency & Attention-driven Masking and Throwing) for OpenMMLab."""

import os
import re
import shutil
import sys
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


def add_mim_extension():
    """Ship ``configs/`` inside the package as ``famt_mm/.mim/configs``, as OpenMMLab packages do:
    a link for an editable install, a copy for a regular one, so installed tools find the configs."""
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'
    elif {'install', 'bdist_wheel', 'sdist', 'build', 'build_py'} & set(sys.argv):
        mode = 'copy'
    else:
        return
    mim_dir = HERE / 'famt_mm' / '.mim'
    mim_dir.mkdir(exist_ok=True)
    target = mim_dir / 'configs'
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    if mode == 'symlink':
        os.symlink(os.path.relpath(HERE / 'configs', mim_dir), target, target_is_directory=True)
    else:
        shutil.copytree(HERE / 'configs', target)


add_mim_extension()
setup(
    name='famt_mm',
    version=VERSION,
    description='FAMT: Frequency & Attention-driven Masking and Throwing for masked image modeling, '
    'as an OpenMMLab (mmpretrain / mmdet / mmseg) plugin',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    python_requires='>=3.9',
    packages=find_packages(include=['famt_mm', 'famt_mm.*']),
    include_package_data=True,
    package_data={'famt_mm': ['.mim/configs/**/*.py', '.mim/configs/**/*.yml']},
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
